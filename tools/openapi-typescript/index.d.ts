/** The types of `document` (an OpenAPI 3.x object), as the text of a .ts module. */
export function generateTypes(document: object): Promise<string>;
