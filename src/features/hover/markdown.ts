/**
 * Markdown for the hover: text from the document shown literally.
 */

/** Escapes markdown (and the table's `|`) in text that comes from the document. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, '\\$&');
}
