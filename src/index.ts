/**
 * carp-kit public API (DESIGN.md §3.1). The only entry point: notebooks, the CLI and
 * users import from here (`import { … } from 'carp-kit'`).
 */
export { tf } from './backend/tf';
export {
  selectBackend,
  currentBackend,
  parseBackendName,
  BACKEND_NAMES,
} from './backend/selectBackend';
export type { BackendChoice, BackendName } from './backend/selectBackend';
