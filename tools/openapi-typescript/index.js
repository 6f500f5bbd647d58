// TypeScript types for an OpenAPI document, as `openapi-typescript` prints them. This package exists
// only to give openapi-typescript its own TypeScript 5: it builds and prints its output through
// TypeScript's JavaScript API (ts.factory, ts.createPrinter), which the project's TypeScript 7 (the
// native compiler) does not have, and npm cannot install a peer dependency beside another major.
import openapiTS, { astToString } from 'openapi-typescript';

/** The types of `document` (an OpenAPI 3.x object), as the text of a .ts module. */
export async function generateTypes(document) {
  // No $refs to other files and no redocly.yaml to look for: the document arrives whole.
  const ast = await openapiTS(document, { alphabetize: false, exportType: false, rootTypes: false });
  return astToString(ast);
}
