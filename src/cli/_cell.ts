/**
 * The process one evaluation cell runs in (started by runCellInChild, never by hand): it runs the cell
 * it is sent with the command line's data loader and sends the row back.
 */
import { serveCell } from '../evaluate/child.js';
import { loadDataset } from './_data.js';

serveCell((name, split, o) => loadDataset(name, split, o));
