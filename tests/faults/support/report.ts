/** One row of the table each fault run prints (and docs/reliability.md keeps). */
export interface FaultRow {
  fault: string;
  load: string;
  accepted: number;
  lost: number;
  duplicates: number;
  /** 5xx answers and failed connections from the fault on (the client, like Meta, delivers those again). */
  refused: number;
  recoverySeconds: number;
}

export function faultTable(rows: FaultRow[]): string {
  const header = ['fault', 'load', 'accepted', 'lost', 'duplicates', 'refused during fault', 'recovery time'];
  const body = rows.map((r) => [
    r.fault,
    r.load,
    String(r.accepted),
    String(r.lost),
    String(r.duplicates),
    String(r.refused),
    `${r.recoverySeconds.toFixed(1)} s`,
  ]);
  const lines = [header, header.map(() => '---'), ...body];
  return lines.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}
