/**
 * torch.utils.hooks.RemovableHandle: what every register*Hook returns. `remove()` unregisters the
 * hook (idempotent); `using h = m.registerForwardHook(...)` removes it at the end of the block, as
 * Python's `with handle:`.
 */
import './disposable';

let nextId = 0;

export class RemovableHandle {
  /** A process-unique number, as Python's handle.id. */
  readonly id = nextId++;
  private _remove: (() => void) | null;
  constructor(remove: () => void) {
    this._remove = remove;
  }
  /** Unregisters the hook; calling it again does nothing. */
  remove(): void {
    const r = this._remove;
    this._remove = null;
    r?.();
  }
  [Symbol.dispose](): void {
    this.remove();
  }
}
