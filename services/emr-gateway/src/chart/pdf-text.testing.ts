import { execFile } from 'node:child_process';

const SCRIPT = `
const chunks = [];
process.stdin.on('data', (c) => chunks.push(c));
process.stdin.on('end', async () => {
  const parse = require('pdf-parse/lib/pdf-parse.js');
  const r = await parse(Buffer.concat(chunks));
  process.stdout.write(JSON.stringify({ text: r.text, pages: r.numpages }));
});`;

/**
 * The text of a PDF as a reader's copy-paste would get it, read back with pdf-parse (pdf.js) in a
 * child Node process: pdf.js does not load inside Jest's module sandbox.
 */
export function pdfText(pdf: Buffer): Promise<{ text: string; pages: number }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['-e', SCRIPT],
      { timeout: 30000, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`pdf-parse failed: ${stderr || error.message}`));
        else resolve(JSON.parse(stdout) as { text: string; pages: number });
      },
    );
    child.stdin?.end(pdf);
  });
}
