// A unified diff (what the API's diff routes answer) laid out side by side: removed lines on the
// left, added lines on the right, a run of removals paired row by row with the additions after it.
export interface DiffRow {
  kind: 'hunk' | 'same' | 'change';
  left?: { line: number; text: string; removed: boolean };
  right?: { line: number; text: string; added: boolean };
  /** The hunk header text (kind 'hunk'). */
  header?: string;
}

export function sideBySide(unified: string): DiffRow[] {
  const rows: DiffRow[] = [];
  let left = 0;
  let right = 0;
  let removed: Array<{ line: number; text: string }> = [];
  let added: Array<{ line: number; text: string }> = [];
  const flush = () => {
    for (let i = 0; i < Math.max(removed.length, added.length); i++) {
      const l = removed[i];
      const r = added[i];
      rows.push({ kind: 'change', ...(l ? { left: { ...l, removed: true } } : {}), ...(r ? { right: { ...r, added: true } } : {}) });
    }
    removed = [];
    added = [];
  };
  let inHunk = false;
  for (const line of unified.split('\n')) {
    const hunk = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
    if (hunk) {
      flush();
      left = Number(hunk[1]);
      right = Number(hunk[2]);
      inHunk = true;
      rows.push({ kind: 'hunk', header: line });
      continue;
    }
    if (!inHunk || line.startsWith('\\')) continue;
    if (line.startsWith('-')) removed.push({ line: left++, text: line.slice(1) });
    else if (line.startsWith('+')) added.push({ line: right++, text: line.slice(1) });
    else if (line.startsWith(' ')) {
      flush();
      rows.push({ kind: 'same', left: { line: left++, text: line.slice(1), removed: false }, right: { line: right++, text: line.slice(1), added: false } });
    }
  }
  flush();
  return rows;
}
