/**
 * Progress of a long CLI command as lines on stderr (`score windows 120/400`), at most one every `everyMs`;
 * a run quicker than that prints none. Kept apart from cli.ts (which runs on import) so it can be tested.
 */
export interface ProgressCount {
  done: number;
  total: number;
}

export function throttledProgress<P extends ProgressCount>(
  label: (progress: P) => string,
  write: (line: string) => void,
  everyMs = 2000,
  now: () => number = Date.now,
): (progress: P) => void {
  let lastAt = now();
  return (progress) => {
    const at = now();
    if (at - lastAt < everyMs) return;
    lastAt = at;
    write(`${label(progress)} ${progress.done}/${progress.total}\n`);
  };
}
