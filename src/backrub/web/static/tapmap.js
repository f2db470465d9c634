// Tapping a region on a map ticks (or unticks) its checkbox in the list beside it.
// The checkboxes are the real form fields, so the page works without this script too.
for (const map of document.querySelectorAll(".tap-map[data-field]")) {
  const field = map.dataset.field;
  const form = map.closest("form") || document;
  const boxes = () => form.querySelectorAll(`input[name="${field}"]`);
  const paint = () => {
    const picked = new Set([...boxes()].filter((b) => b.checked).map((b) => b.value));
    for (const shape of map.querySelectorAll("[data-region]")) {
      shape.classList.toggle("picked", picked.has(shape.dataset.region));
    }
    const summary = map.parentElement.querySelector("summary");
    if (summary) summary.textContent = `List of places (${picked.size} picked)`;
  };
  map.addEventListener("click", (event) => {
    const shape = event.target.closest("[data-region]");
    if (!shape) return;
    const box = [...boxes()].find((b) => b.value === shape.dataset.region);
    if (!box) return; // bones and the kidney zone are never pressed: nothing to pick
    box.checked = !box.checked;
    paint();
  });
  form.addEventListener("change", paint);
  paint();
}
