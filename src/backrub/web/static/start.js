// The start page's small helpers; the form works without them.
// - The first-time walkthrough: closed for good once read or skipped (on this device), and
//   opened again from its summary at any time.
// - "Anything changed since last time?": a yes opens every question, pre-filled, and marks them
//   as shown (the server starts a session after a yes only once they were).
// - Each collapsed group's summary follows what is ticked inside it.
const SEEN = "backrub-walkthrough-seen";

const walkthrough = document.getElementById("walkthrough");
if (walkthrough) {
  let seen = false;
  try { seen = localStorage.getItem(SEEN) === "1"; } catch { /* storage off: show it */ }
  if (seen) walkthrough.open = false;
  const close = () => {
    try { localStorage.setItem(SEEN, "1"); } catch { /* nothing to remember with */ }
    walkthrough.open = false;
    walkthrough.querySelector("summary").focus();
  };
  document.getElementById("walkthrough-done")?.addEventListener("click", close);
  document.getElementById("walkthrough-skip")?.addEventListener("click", close);
}

const questions = document.getElementById("screening-group");
const reviewed = document.getElementById("reviewed");
const showQuestions = () => {
  if (!questions) return;
  questions.open = true;
  questions.scrollIntoView({ block: "start" });
};
if (questions && reviewed) {
  questions.addEventListener("toggle", () => { if (questions.open) reviewed.value = "1"; });
  if (questions.open) reviewed.value = "1";
  document.getElementById("changed-yes")?.addEventListener("change", showQuestions);
  document.getElementById("see-all-questions")?.addEventListener("click", (event) => {
    event.preventDefault();
    showQuestions();
  });
}

const form = document.getElementById("start-form");
const summaries = form ? form.querySelectorAll("[data-now]") : [];
const follow = () => {
  for (const summary of summaries) {
    const ticked = [...form.querySelectorAll(`input[name="${summary.dataset.now}"]:checked`)];
    const names = ticked.map((box) => box.parentElement.textContent.trim());
    summary.textContent = names.join(", ") || "nothing picked";
  }
};
form?.addEventListener("change", follow);
