import { describe, expect, it } from 'vitest';
import { fileErrorEntry, fileErrorText } from './file-error-text.js';

function nodeError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code });
}

describe('fileErrorText', () => {
  it.each([
    ['ENOENT', '文件不存在，请检查路径', 'no such file; check the path'],
    ['EEXIST', '文件已存在', 'the file already exists'],
    ['EACCES', '没有访问权限，请检查文件及其所在文件夹的权限', 'permission denied; check the permissions of the file and its folder'],
    ['EPERM', '没有访问权限，请检查文件及其所在文件夹的权限', 'permission denied; check the permissions of the file and its folder'],
    ['EISDIR', '这是一个文件夹，应为文件', 'this is a folder, expected a file'],
  ])('words %s in both languages', (code, zh, en) => {
    const error = nodeError(code, `${code}: raw text, open '/x'`);
    expect(fileErrorText(error, 'zh')).toBe(zh);
    expect(fileErrorText(error, 'en')).toBe(en);
  });

  it('keeps the message of another error', () => {
    expect(fileErrorText(nodeError('EIO', 'EIO: i/o error, read'), 'zh')).toBe('EIO: i/o error, read');
    expect(fileErrorText('not an error', 'en')).toBe('not an error');
  });
});

describe('fileErrorEntry', () => {
  it('fills the message in each language', () => {
    expect(fileErrorEntry('cli.fileUnreadable', nodeError('ENOENT', 'ENOENT'))).toEqual({
      zh: '无法读取文件：文件不存在，请检查路径',
      en: 'cannot read the file: no such file; check the path',
    });
  });
});
