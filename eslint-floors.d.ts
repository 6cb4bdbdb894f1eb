// Types of eslint-floors.js for the tests that read its floor table.
export declare const FLOORS: string[][];
export declare function unitOf(rel: string): string | null;
export declare const floorsPlugin: unknown;
