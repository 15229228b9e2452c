/**
 * A readable message for anything thrown: an Error's message, a string as is, other values as JSON
 * (falling back to `String` when they cannot be serialised).
 */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}
