/**
 * A one-page PDF drawn with the standard Helvetica fonts (no embedded font, no dependency): enough
 * for a checklist the sandbox hands out as a document link. The standard fonts use WinAnsi
 * encoding, so Latin scripts (English, Spanish, French, Portuguese) print; other scripts do not.
 */
export interface PdfPage {
  title: string;
  subtitle?: string;
  /** Paragraphs; each is wrapped to the page width. */
  lines: string[];
  footer?: string;
}

// Characters WinAnsi places outside Latin-1; everything else above U+00FF has no glyph.
const WIN_ANSI_EXTRA: Record<string, number> = {
  '€': 0x80,
  '‚': 0x82,
  '„': 0x84,
  '…': 0x85,
  '‘': 0x91,
  '’': 0x92,
  '“': 0x93,
  '”': 0x94,
  '•': 0x95,
  '–': 0x96,
  '—': 0x97,
};

/** Whether every character of the text can be drawn with the standard fonts. */
export function printable(text: string): boolean {
  return [...text].every((c) => c.charCodeAt(0) <= 0xff || c in WIN_ANSI_EXTRA);
}

function pdfString(text: string): string {
  if (!printable(text)) throw new Error(`not printable with the standard PDF fonts: ${JSON.stringify(text)}`);
  const bytes = [...text].map((c) => (c in WIN_ANSI_EXTRA ? String.fromCharCode(WIN_ANSI_EXTRA[c]) : c)).join('');
  return `(${bytes.replace(/[\\()]/g, (m) => `\\${m}`)})`;
}

/** Greedy word wrap by character count (Helvetica 11 pt fits about 90 characters on A4 with margins). */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.length ? out : [''];
}

export function onePagePdf(page: PdfPage): Buffer {
  const ops: string[] = ['BT', '/F2 16 Tf', '56 786 Td', '18 TL', `${pdfString(page.title)} Tj`];
  if (page.subtitle) ops.push('/F1 9 Tf', '14 TL', 'T*', `${pdfString(page.subtitle)} Tj`);
  ops.push('/F1 11 Tf', '15 TL', 'T*');
  for (const paragraph of page.lines) {
    for (const line of wrap(paragraph, 88)) ops.push('T*', `${pdfString(line)} Tj`);
    ops.push('0 -5 Td');
  }
  ops.push('ET');
  if (page.footer) ops.push('BT', '/F1 8 Tf', '56 40 Td', `${pdfString(page.footer)} Tj`, 'ET');
  const content = ops.join('\n');

  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>',
    `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}\nendstream`,
    `<< /Title ${pdfString(page.title)} /Producer (wa-gov-platform cloud-api-sandbox) >>`,
  ];
  // Offsets are byte positions, so everything is assembled as latin1 (one byte per character).
  let body = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  objects.forEach((object, i) => {
    offsets.push(Buffer.byteLength(body, 'latin1'));
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
  });
  const xref = Buffer.byteLength(body, 'latin1');
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  body += offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info ${objects.length} 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}
