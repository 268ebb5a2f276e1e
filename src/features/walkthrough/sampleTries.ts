/**
 * Where each walkthrough step puts the cursor in the sample text (media/walkthrough/sample.md) before it runs its
 * command, so that a button on the walkthrough page (where no text editor is active) works on the sample. Pure (no
 * `vscode`): unit-tested against the shipped sample.
 */
import { findMaskMarkers } from '../../engine/tasks/fill/maskMarkers';

/** A walkthrough step that runs a command on the sample, and that command. */
export const SAMPLE_TRIES = {
  fillMask: 'lmLens.fillMask',
  continueText: 'lmLens.continueText',
  showAttention: 'lmLens.showAttention',
  showLayers: 'lmLens.showLayers',
} as const;

export type SampleTry = keyof typeof SAMPLE_TRIES;

export function isSampleTry(value: unknown): value is SampleTry {
  return typeof value === 'string' && Object.hasOwn(SAMPLE_TRIES, value);
}

/**
 * The offset of the cursor for `step` in `text`, or undefined when the user has edited the sample so that its
 * place is gone (the command then runs where the cursor is, and says what it needs).
 *   fillMask       the first mask marker (Fill Mask fills the markers of the paragraph)
 *   continueText   the end of the line to continue (after what an earlier Continue Text wrote there)
 *   showAttention,
 *   showLayers     inside "bank" of the first sentence
 */
export function sampleCursor(text: string, step: SampleTry): number | undefined {
  switch (step) {
    case 'fillMask':
      return findMaskMarkers(text)[0]?.start;
    case 'continueText': {
      // the end of that line, so that a sample continued before goes on from where it stopped
      const at = text.indexOf(CONTINUE_LINE);
      if (at < 0) return undefined;
      const end = text.indexOf('\n', at);
      return end < 0 ? text.length : text[end - 1] === '\r' ? end - 1 : end;
    }
    case 'showAttention':
    case 'showLayers': {
      const at = text.indexOf(BANK_SENTENCE);
      return at < 0 ? undefined : at + BANK_SENTENCE.indexOf('bank') + 1;
    }
  }
}

const CONTINUE_LINE = 'The President of the United';
const BANK_SENTENCE = 'We sat on the bank of the river';
