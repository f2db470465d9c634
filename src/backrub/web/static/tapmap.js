// Tapping a region on a map ticks (or unticks) its checkbox in the list beside it, paints it as
// picked, and says what was tapped; bone and the kidney area cannot be picked and say why.
// The checkboxes are the real form fields, so the page works without this script too.
const NEVER = {
  bone: (name) => `That's the ${name}: we never press on bone; pick the muscle beside it.`,
  caution: (name) => `That's the ${name}: only a light touch there, never pressing; pick the muscle beside it.`,
};

const plainName = (shape) => {
  const title = shape.querySelector("title");
  const name = title ? title.textContent : shape.dataset.region;
  // "Kidney area (lower ribs beside the spine) (left)" -> "kidney area (left)"
  return name.replace(/\s*\(([^)]*)\)/g, (all, inside) => (/^(left|right)$/.test(inside) ? all : ""))
    .trim().replace(/^./, (first) => first.toLowerCase());
};

for (const map of document.querySelectorAll(".tap-map[data-field]")) {
  const field = map.dataset.field;
  const form = map.closest("form") || document;
  const said = document.getElementById(`${map.id}-said`);
  const boxes = () => form.querySelectorAll(`input[name="${field}"]`);
  const paint = () => {
    const picked = new Set([...boxes()].filter((b) => b.checked).map((b) => b.value));
    for (const shape of map.querySelectorAll("[data-region]")) {
      shape.classList.toggle("picked", picked.has(shape.dataset.region));
    }
    const summary = map.closest(".two-columns")?.querySelector("details > summary");
    if (summary) summary.textContent = `List of places (${picked.size} picked)`;
  };
  const say = (text) => { if (said) said.textContent = text; };
  map.addEventListener("click", (event) => {
    const shape = event.target.closest("[data-region]");
    if (!shape) return;
    const box = [...boxes()].find((b) => b.value === shape.dataset.region);
    if (!box) {
      const tissue = shape.classList.contains("tissue-bone") ? "bone" : "caution";
      say(NEVER[tissue](plainName(shape)));
      return;
    }
    box.checked = !box.checked;
    box.dispatchEvent(new Event("change", { bubbles: true }));
    paint();
    say(`${box.checked ? "Picked" : "Taken off"}: ${box.parentElement.textContent.trim()}.`);
  });
  form.addEventListener("change", paint);
  paint();
}
