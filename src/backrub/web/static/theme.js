// The colour theme: "auto" follows the device (prefers-color-scheme), "light" and "dark" override it.
// Loaded as a plain blocking script in <head> so data-theme is set before the first paint (no flash
// of the wrong theme in a dim room); the header's switch is wired once the page has loaded.
(() => {
  const KEY = "backrub-theme";
  const CHOICES = ["auto", "light", "dark"];
  const root = document.documentElement;

  const saved = () => {
    try {
      const value = localStorage.getItem(KEY);
      return CHOICES.includes(value) ? value : "auto";
    } catch {
      return "auto"; // storage can be switched off; the device's setting still applies
    }
  };

  const apply = (choice) => {
    if (choice === "auto") root.removeAttribute("data-theme");
    else root.setAttribute("data-theme", choice);
  };

  apply(saved());

  document.addEventListener("DOMContentLoaded", () => {
    const select = document.getElementById("theme");
    if (!select) return;
    select.value = saved();
    select.closest("[hidden]")?.removeAttribute("hidden"); // a switch that works only with JS
    select.addEventListener("change", () => {
      const choice = CHOICES.includes(select.value) ? select.value : "auto";
      apply(choice);
      try {
        if (choice === "auto") localStorage.removeItem(KEY);
        else localStorage.setItem(KEY, choice);
      } catch {
        // not remembered, but this page still switches
      }
    });
  });
})();
