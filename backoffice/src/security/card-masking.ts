// The masking rule lives in shared-protocol so that terminal logs and the back office agree.
export { maskCardNumber } from '@busfare/shared-protocol';
