// Text into HTML and SVG: every string from the event log goes through `esc` (a provisioner's
// output can hold anything, `<script>` included). Markup is built as strings, each value escaped
// where it is put in.

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(text: unknown): string {
  return String(text ?? '').replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
