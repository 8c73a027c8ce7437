/**
 * Deletes every registry subject whose name starts with `prefix`: soft-deletes it, then deletes it
 * permanently (the registry refuses a permanent delete of a subject that is not soft-deleted).
 */
export async function deleteSubjects(registryUrl: string, prefix: string): Promise<void> {
  if (prefix.length === 0) throw new Error('deleteSubjects needs a non-empty prefix');
  const base = registryUrl.replace(/\/+$/, '');
  const subjects = (await (await fetch(`${base}/subjects`)).json()) as string[];
  for (const subject of subjects.filter((s) => s.startsWith(prefix))) {
    const url = `${base}/subjects/${encodeURIComponent(subject)}`;
    await fetch(url, { method: 'DELETE' });
    await fetch(`${url}?permanent=true`, { method: 'DELETE' });
  }
}
