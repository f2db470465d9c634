// Buttons marked data-print open the browser's print dialog (the print stylesheet does the rest).
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
