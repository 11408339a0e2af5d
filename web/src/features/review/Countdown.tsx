import { useEffect, useState } from 'react';

/** Time left until a case is due, ticking each second; urgent cases (removal orders: one hour) show it live. */
export function Countdown({ due, live }: { due: string; live: boolean }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [live]);
  const left = Math.round((new Date(due).getTime() - now) / 1000);
  if (!live || Math.abs(left) > 6 * 3600) return <>{new Date(due).toLocaleString()}</>;
  const abs = Math.abs(left);
  const text = `${Math.floor(abs / 3600) ? `${Math.floor(abs / 3600)}:` : ''}${String(Math.floor((abs % 3600) / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  // Reminders at 30 and 50 minutes into the one-hour clock: 30 and 10 minutes left.
  const level = left < 0 ? 'overdue' : left <= 600 ? 'late' : left <= 1800 ? 'warn' : 'ok';
  return (
    <time
      dateTime={due}
      className={`countdown ${level}`}
      aria-live="off"
      title={new Date(due).toLocaleString()}
    >
      {left < 0 ? `overdue by ${text}` : `${text} left`}
    </time>
  );
}
