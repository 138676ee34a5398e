// The carrier desk, progressive enhancement (no inline script: CSP). Without JavaScript the desk issues
// one pasted document at a time. With it:
//  - a chosen (or dropped, see drop.js) file fills the document box;
//  - many files are issued one by one: each file's text is posted, form-encoded with the page's CSRF
//    token, to /web/desk/issue with `row` = its name; the answer is that file's result row (eBL id, or
//    the API's problem title and detail), rendered and escaped by the server; a <progress> counts them.
//    Each file carries its own idempotency key, so a request resent by the browser issues once.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("issue-form");
  if (!form) return;
  for (const el of document.querySelectorAll(".js-only")) el.hidden = false;
  for (const el of document.querySelectorAll(".no-js-note")) el.hidden = true;

  const box = document.getElementById("document");
  const one = document.getElementById("document-file");
  if (one && box) {
    one.addEventListener("change", () => {
      const file = one.files && one.files[0];
      if (file) file.text().then((text) => { box.value = text; });
    });
  }

  const files = document.getElementById("many-files");
  const button = document.getElementById("issue-many");
  const progress = document.getElementById("many-progress");
  const count = document.getElementById("many-count");
  const results = document.getElementById("many-results");
  const zone = document.getElementById("many");
  if (!files || !button || !progress || !results) return;
  let dropped = null;
  zone.addEventListener("dragover", (event) => event.preventDefault());
  zone.addEventListener("drop", (event) => {
    if (!event.dataTransfer || !event.dataTransfer.files.length) return;
    event.preventDefault();
    dropped = Array.from(event.dataTransfer.files);
    count.textContent = dropped.map((f) => f.name).join(", ");
  });
  files.addEventListener("change", () => { dropped = null; });

  button.addEventListener("click", async () => {
    const chosen = dropped || Array.from(files.files || []);
    if (!chosen.length) return;
    const field = (name) => (form.elements.namedItem(name) || { value: "" }).value;
    button.disabled = true;
    results.textContent = "";
    progress.max = chosen.length;
    progress.value = 0;
    const run = Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");
    for (const [index, file] of chosen.entries()) {
      const body = new URLSearchParams({
        csrf: field("csrf"), issue_to: field("issue_to"), endorsee: field("endorsee"),
        document: await file.text(), row: file.name, key: `${run}:${index}`,
      });
      let row;
      try {
        const answer = await fetch("/web/desk/issue", { method: "POST", body, credentials: "same-origin" });
        row = await answer.text();
      } catch (error) {
        row = null;
      }
      if (row && row.trim().startsWith("<tr")) {
        results.insertAdjacentHTML("beforeend", row);
      } else {
        const tr = results.insertRow();
        tr.className = "result bad";
        tr.insertCell().textContent = file.name;
        tr.insertCell().textContent = "—";
        tr.insertCell().textContent = "—";
      }
      progress.value += 1;
      count.textContent = `${progress.value} / ${chosen.length}`;
    }
    button.disabled = false;
  });
});
