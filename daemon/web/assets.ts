/**
 * The console's stylesheet and script, served from /static/ so the Content-Security-Policy can
 * forbid inline code. Small on purpose: pages are rendered on the server and work without the script.
 */
export const CONSOLE_CSS = `
:root { --ink: #1d2430; --muted: #4f5b6b; --line: #d5dbe3; --bg: #f6f8fb; --accent: #0b5cad; --bad: #a4161a; --ok: #1b6e3c; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible { outline: 3px solid #f2b705; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: .5rem; background: #fff; color: var(--accent); padding: .25rem .5rem; z-index: 1; }
header.top { display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; padding: .5rem 1rem; background: #13233a; color: #fff; }
header.top a { color: #fff; }
header.top nav { display: flex; gap: 1rem; flex-wrap: wrap; }
header.top form { margin-left: auto; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.4rem; margin: .5rem 0 1rem; overflow-wrap: anywhere; }
table { width: 100%; border-collapse: collapse; background: #fff; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { font-size: .85rem; color: var(--muted); }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin-bottom: 1rem; }
label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); gap: .2rem; }
input, select, textarea, button { font: inherit; padding: .35rem .5rem; border: 1px solid #8a96a8; border-radius: 4px; }
button { background: var(--accent); color: #fff; border-color: var(--accent); cursor: pointer; }
.counts { display: flex; gap: .75rem; flex-wrap: wrap; margin: 0 0 1rem; padding: 0; list-style: none; }
.tag { display: inline-block; padding: 0 .4rem; border-radius: 3px; background: #e4e9f0; font-size: .85rem; margin-right: .25rem; }
.failed { color: var(--bad); font-weight: 600; }
.sent { color: var(--ok); }
article.mail { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; margin: 0 0 1rem; }
article.mail.outbound { border-left: 4px solid var(--accent); }
article.mail pre { white-space: pre-wrap; overflow-wrap: anywhere; font: inherit; margin: .5rem 0 0; }
.meta { color: var(--muted); font-size: .85rem; }
aside.note { background: #fff8e1; border: 1px dashed #8a6d00; border-radius: 6px; padding: .75rem 1rem; margin: 0 0 1rem; }
aside.note pre { white-space: pre-wrap; overflow-wrap: anywhere; font: inherit; margin: .5rem 0 0; }
.note-label { margin: 0; color: #5c4700; font-size: .85rem; }
form.row-action { display: flex; flex-wrap: wrap; gap: .25rem .5rem; align-items: center; margin: 0; }
label.inline { flex-direction: row; align-items: center; gap: .25rem; }
.url { overflow-wrap: anywhere; }
.error { color: var(--bad); }
section { margin: 0 0 1.5rem; }
.html-part iframe { display: block; width: 100%; height: 32rem; border: 1px solid var(--line); background: #fff; margin: .5rem 0 0; }
.attachments img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); margin: .25rem 0; }
@media (max-width: 40rem) { th.optional, td.optional { display: none; } main { padding: .5rem; } }
`;

/** Progressive enhancement only: the filters submit themselves when a select changes. */
export const CONSOLE_JS = `
document.querySelectorAll('form.filters select').forEach((select) => {
  select.addEventListener('change', () => select.form.requestSubmit());
});
`;
