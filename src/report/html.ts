/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/** A self-contained page (no network, opens from disk) with the project's plain style, plus the page's own `css`. */
export function htmlPage(title: string, body: string, css = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
  table { border-collapse: collapse; }
  th, td { border-bottom: 1px solid #ddd; padding: 0.4rem 0.7rem; text-align: left; vertical-align: middle; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  img { image-rendering: pixelated; display: block; }
  .muted { color: #777; }
${css}</style>
</head>
<body>
${body}
</body>
</html>
`;
}
