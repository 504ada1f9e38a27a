/** TensorBoard event files: read scalars (the official trainer's curves), write the kit's. */
export { crc32c, maskCrc, maskedCrc32c } from './crc32c';
export { EventFileError, type EventFileProblem } from './tfrecord';
export {
  findEventFiles,
  parseEventFile,
  readEventFile,
  readTensorBoardRuns,
  writeEventFile,
  type EventFileScalars,
  type ScalarPoint,
  type ScalarRow,
  type TensorBoardRun,
} from './eventFile';
export { KIT_TAGS, kitScalarRows, writeRunEvents } from './kitEvents';
