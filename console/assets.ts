// The console's stylesheet and its one script, served from the app itself (never a CDN): a small
// hand-written stylesheet (light and dark by prefers-color-scheme, colours chosen for WCAG AA
// contrast, a visible focus ring) and a few lines that make copy buttons copy. Pages work without
// the script; it only adds the copy.
export const CONSOLE_CSS = `
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1b1f24; --muted: #4f5863; --line: #d0d7de; --panel: #f6f8fa;
  --link: #0550ae; --accent: #0a5c2f; --bad: #a40e26; --warn: #7a4b00; --ok: #116329; --bar: #0969da; --focus: #bf3989; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9da7b3; --line: #3d444d; --panel: #161b22;
    --link: #6cb6ff; --accent: #56d364; --bad: #ff8182; --warn: #e3b341; --ok: #56d364; --bar: #4493f8; --focus: #ff9bce; }
}
* { box-sizing: border-box; }
html { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
body { margin: 0; }
a { color: var(--link); }
a:focus-visible, button:focus-visible, input:focus-visible, textarea:focus-visible, select:focus-visible, summary:focus-visible {
  outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--bg); padding: .5rem; }
.skip:focus { left: .5rem; z-index: 10; }
header.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .75rem 1rem; border-bottom: 1px solid var(--line); background: var(--panel); }
header.top .brand { font-weight: 700; text-decoration: none; color: var(--fg); }
header.top nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
header.top .who { margin-left: auto; display: flex; gap: .75rem; align-items: center; color: var(--muted); }
main { padding: 1rem; max-width: 84rem; margin: 0 auto; overflow-wrap: anywhere; }
footer { padding: 1rem; color: var(--muted); border-top: 1px solid var(--line); font-size: .875rem; }
h1 { font-size: 1.5rem; margin: .25rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
.table-wrap { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: .9375rem; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap: .75rem; margin: 0; padding: 0; list-style: none; }
.tiles li { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; background: var(--panel); }
.tiles .n { display: block; font-size: 1.6rem; font-weight: 700; }
.state-bad { color: var(--bad); font-weight: 600; }
.state-warn { color: var(--warn); font-weight: 600; }
.state-ok { color: var(--ok); font-weight: 600; }
.muted { color: var(--muted); }
progress.bar { display: block; width: 100%; min-width: 8rem; height: .9rem; accent-color: var(--bar); }
form.inline { display: inline; }
label { display: block; font-weight: 600; margin: .5rem 0 .25rem; }
input[type=text], input[type=password], input[type=search], textarea, select {
  font: inherit; color: var(--fg); background: var(--bg); border: 1px solid var(--muted); border-radius: 4px; padding: .4rem .5rem; max-width: 100%; }
input[type=text], input[type=password], input[type=search] { width: 28rem; }
textarea { width: 100%; min-height: 18rem; font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .875rem; }
button { font: inherit; cursor: pointer; border-radius: 4px; padding: .35rem .8rem; border: 1px solid var(--link); background: var(--link); color: var(--bg); font-weight: 600; }
button.secondary { background: transparent; color: var(--link); }
a.button { display: inline-block; text-decoration: none; border-radius: 4px; padding: .35rem .8rem; border: 1px solid var(--link); background: var(--link); color: var(--bg); font-weight: 600; }
button.danger { border-color: var(--bad); background: transparent; color: var(--bad); }
.filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; }
.filters label { margin: 0; }
.notice { border: 1px solid var(--line); border-left: 4px solid var(--accent); padding: .6rem .8rem; margin: 1rem 0; background: var(--panel); }
.notice.error { border-left-color: var(--bad); }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .875rem; }
pre { overflow-x: auto; background: var(--panel); padding: .6rem; border: 1px solid var(--line); border-radius: 6px; }
.secret { white-space: pre-wrap; word-break: break-all; }
table.diff { table-layout: fixed; font-family: ui-monospace, Menlo, monospace; font-size: .8125rem; }
table.diff td { white-space: pre-wrap; word-break: break-all; padding: 0 .4rem; border: 0; }
table.diff .ln { width: 3.5rem; color: var(--muted); text-align: right; }
table.diff td.del { background: color-mix(in srgb, var(--bad) 16%, var(--bg)); }
table.diff td.add { background: color-mix(in srgb, var(--ok) 16%, var(--bg)); }
table.diff tr.hunk td { background: var(--panel); color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
/* Cells break between words only (the table scrolls sideways in its .table-wrap instead). */
table.whole-words th, table.whole-words td { overflow-wrap: normal; }
ul.gates { margin: 0; padding-left: 1rem; min-width: 16rem; overflow-wrap: anywhere; }
td p { margin: .25rem 0 0; }
ul.actions { list-style: none; margin: 0; padding: 0; }
ul.actions li { margin: .4rem 0; }
@media (max-width: 40rem) {
  html { font-size: 15px; }
  main { padding: .75rem; }
  input[type=text], input[type=password], input[type=search] { width: 100%; }
  header.top .who { margin-left: 0; }
  table.diff .ln { width: 2.4rem; }
}
`;

// Copies the text of the element a copy button names (data-copy="id"), and says so.
export const CONSOLE_JS = `
document.addEventListener('click', function (e) {
  var b = e.target.closest('button[data-copy]');
  if (!b) return;
  var el = document.getElementById(b.getAttribute('data-copy'));
  if (!el || !navigator.clipboard) return;
  navigator.clipboard.writeText(el.textContent.trim()).then(function () {
    var s = document.getElementById(b.getAttribute('data-copy') + '-status');
    if (s) s.textContent = 'Copied.';
  });
});
document.querySelectorAll('button[data-copy]').forEach(function (b) { b.hidden = false; });
`;
