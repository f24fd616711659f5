import { useEffect } from 'preact/hooks';

/** Sets the document title (what a screen reader announces on navigation). */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Taskwire` : 'Taskwire';
  }, [title]);
}
