// Swagger UI's files for /docs, from the swagger-ui-dist package, so the interactive docs work on
// a machine without the internet. Read when asked for (rarely), not kept in memory.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

const FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

export function swaggerUiAssets(): (file: string) => Promise<{ body: Uint8Array; contentType: string } | undefined> {
  const dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  return async (file) => {
    const contentType = FILES[file];
    // Only the files named above: the name never reaches the file system otherwise.
    return contentType ? { body: await readFile(join(dir, file)), contentType } : undefined;
  };
}
