const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for use in HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

/** Serialises a value as JSON that is safe inside an inline <script> element. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Formats an ISO 8601 instant as local 'YYYY-MM-DD hh:mm:ss' at a fixed UTC offset. */
export function formatLocalTime(isoTime: string, offsetMinutes: number): string {
  const instant = Date.parse(isoTime);
  if (Number.isNaN(instant)) return isoTime;
  return new Date(instant + offsetMinutes * 60_000).toISOString().slice(0, 19).replace('T', ' ');
}
