/**
 * Returns whether an error is SQLite's "database or disk is full": the disk, or the file's
 * max_page_count. A commit whose frames need a new region of the WAL index (-shm) fails with
 * SQLITE_IOERR_SHMSIZE instead when the disk is full.
 */
export function isStorageFullError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'SQLITE_IOERR_SHMSIZE';
}
