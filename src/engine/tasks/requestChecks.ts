/**
 * Host-side checks that every task request shares; each task's `check…Request` adds its own. Requests
 * arrive from the CLI's JSON and the extension's settings as well as from typed code, so the types are
 * checked at run time too.
 */
import { badInput } from '../errors';

/** BAD_INPUT unless `text` is a string with more than white space; `what` names it in the message. */
export function checkText(text: unknown, what = 'The text'): asserts text is string {
  if (typeof text !== 'string' || text.trim() === '') throw badInput(`${what} is empty.`);
}

/** BAD_INPUT for a model id that is given but empty or not a string (undefined picks the task's default). */
export function checkModelId(model: unknown): asserts model is string | undefined {
  if (model !== undefined && (typeof model !== 'string' || model === '')) throw badInput('The model id is empty.');
}
