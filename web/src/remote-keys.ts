// A TV remote has arrows and Enter, no Tab: up and down move the focus through every focusable
// element in document order (Enter activates links and buttons, and opens a select's list).
// Inside a text field (other than search) the arrows keep their own meaning.
const FOCUSABLE = 'a[href], button:not([disabled]), input, select, video[controls], audio[controls]';

export function installRemoteKeys(doc: Document): void {
  doc.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    const active = doc.activeElement as HTMLElement | null;
    if (active?.tagName === 'INPUT' && !['search', 'file', 'button', 'checkbox'].includes((active as HTMLInputElement).type)) return;
    const all = [...doc.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((x) => x.offsetParent !== null);
    if (all.length === 0) return;
    const at = active ? all.indexOf(active) : -1;
    const next = e.key === 'ArrowDown' ? Math.min(all.length - 1, at + 1) : Math.max(0, at - 1);
    all[next].focus();
    e.preventDefault();
  });
}
