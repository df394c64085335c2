/** Formats a time as HH:MM:SS.mmm in the browser's time zone, for the demo's logs. */
export function formatTime(epochMs: number): string {
  const date = new Date(epochMs);
  const clock = date.toLocaleTimeString('en-GB', { hour12: false });
  return `${clock}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}

/** Formats a duration in ms as seconds with one decimal, such as "4.2 s". */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
