import { useEffect, useRef } from 'react';
import { useSettings } from './settings';

/** Every keyboard shortcut, as listed in the help overlay. */
export const SHORTCUTS: [keys: string, what: string][] = [
  ['?', 'Show this help and your settings'],
  ['j', 'Next case: the most urgent one nobody else has open'],
  ['v', 'Reveal the media, or blur it again'],
  ['r s l n e', 'Choose remove, restrict, label, no violation or escalate'],
  ['1 – 4', 'Fill the reason from a template'],
  ['Ctrl+Enter', 'Record the decision (also while typing the reason)'],
];

/** The help overlay (`?`): the shortcuts, and the moderator's own settings (blur, greyscale, shortcuts). */
export function Preferences({ open, onClose }: { open: boolean; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement | null>(null);
  const [settings, update] = useSettings();
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={dialog} onClose={onClose} aria-labelledby="prefs-title" className="prefs">
      <h2 id="prefs-title">Keyboard shortcuts and settings</h2>
      <fieldset>
        <legend>Your settings (this browser)</legend>
        <label className="choice">
          <input
            type="checkbox"
            checked={settings.blur}
            onChange={(e) => update({ blur: e.currentTarget.checked })}
          />
          Blur media until I reveal it
        </label>
        <label className="choice">
          <input
            type="checkbox"
            checked={settings.greyscale}
            onChange={(e) => update({ greyscale: e.currentTarget.checked })}
          />
          Show media in greyscale until I reveal it
        </label>
        <label className="choice">
          <input
            type="checkbox"
            checked={settings.shortcuts}
            onChange={(e) => update({ shortcuts: e.currentTarget.checked })}
          />
          Single-key shortcuts (they never act while you type in a field)
        </label>
      </fieldset>
      <table>
        <caption>Shortcuts {settings.shortcuts ? '' : '(turned off; Ctrl+Enter still works)'}</caption>
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Does</th>
          </tr>
        </thead>
        <tbody>
          {SHORTCUTS.map(([keys, what]) => (
            <tr key={keys}>
              <td>
                <kbd>{keys}</kbd>
              </td>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="dialog">
        <button type="submit">Close</button>
      </form>
    </dialog>
  );
}
