#!/usr/bin/env node
// Guest helper of test/vm/ldirectord.test.ts: a real server's web server; GET /NAME answers the file ROOT/NAME (200), or 404.
//   node http-page.mjs PORT ROOT    prints "LISTENING PORT"; the files are read at each request, so a test edits the page.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';

const [port, root] = [Number(process.argv[2]), process.argv[3]];
const server = createServer((req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
  readFile(join(root, path)).then((body) => {
    res.writeHead(200, { 'content-type': 'text/html', 'content-length': body.length });
    res.end(body);
  }, () => {
    res.writeHead(404, { 'content-length': 0 });
    res.end();
  });
});
server.listen(port, '0.0.0.0', () => console.log(`LISTENING ${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
