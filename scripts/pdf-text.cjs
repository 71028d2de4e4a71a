// Prints the text of the PDF given on standard input (pdf-parse). A CommonJS entry point of its
// own: pdf-parse's bundled pdf.js fails to parse when the main module is an ES module.
const pdfParse = require('pdf-parse/lib/pdf-parse.js');

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  pdfParse(Buffer.concat(chunks)).then(
    (result) => process.stdout.write(`${result.text.trim()}\n`),
    (error) => {
      process.stderr.write(`pdf-text: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
});
