// Drop a transport document file on the document box: its text is pasted in, exactly as the file holds it.
// Progressive enhancement: without JavaScript the box still takes pasted text.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("document");
  if (!box) return;
  box.addEventListener("dragover", (event) => event.preventDefault());
  box.addEventListener("drop", (event) => {
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (!file) return;
    event.preventDefault();
    file.text().then((text) => { box.value = text; });
  });
});
