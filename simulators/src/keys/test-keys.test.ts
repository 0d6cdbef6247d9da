import { describe, expect, it } from 'vitest';
import { ALL_BENCH_ISSUERS, BENCH_ISSUERS, BENCH_LOCAL_CITY_CODE, backofficeTacKeyTable, findBenchIssuer } from './test-keys.js';

describe('bench test keys', () => {
  it('gives each issuer a well-formed id and 16-byte keys', () => {
    for (const issuer of ALL_BENCH_ISSUERS) {
      // T-Union issuer ids end in FFFFFFFF; a MOHURD issuer id is the city code followed by FF0000000000.
      expect(issuer.issuerId).toMatch(issuer.application === 'mohurd' ? /^[0-9A-F]{4}FF0000000000$/ : /^[0-9A-F]{8}FFFFFFFF$/);
      expect(issuer.issuerId.startsWith(issuer.cityCode)).toBe(true);
      expect(issuer.purchaseMasterKey).toHaveLength(16);
      expect(issuer.tacMasterKey).toHaveLength(16);
      expect(issuer.appBlockMasterKey).toHaveLength(16);
      if (issuer.application === 'mohurd') expect(issuer.verifyMasterKey).toHaveLength(16);
    }
    expect(new Set(ALL_BENCH_ISSUERS.map((issuer) => issuer.issuerId)).size).toBe(ALL_BENCH_ISSUERS.length);
  });

  it('has a local 3DES, a local SM4 and an out-of-town issuer', () => {
    expect(BENCH_ISSUERS.cityDes).toMatchObject({ algorithm: 'des', local: true, cityCode: BENCH_LOCAL_CITY_CODE });
    expect(BENCH_ISSUERS.citySm4).toMatchObject({ algorithm: 'sm4', local: true, cityCode: BENCH_LOCAL_CITY_CODE });
    expect(BENCH_ISSUERS.outOfTown.local).toBe(false);
    expect(BENCH_ISSUERS.outOfTown.cityCode).not.toBe(BENCH_LOCAL_CITY_CODE);
  });

  it('gives the back office local TAC keys only', () => {
    const table = backofficeTacKeyTable();
    expect(table.map((row) => row.issuerId)).toEqual([BENCH_ISSUERS.cityDes.issuerId, BENCH_ISSUERS.citySm4.issuerId, BENCH_ISSUERS.mohurdCity.issuerId]);
    expect(table.every((row) => row.test === true && /^[0-9A-F]{32}$/.test(row.tacMasterKeyHex))).toBe(true);
    expect(JSON.parse(JSON.stringify(table))).toEqual(table);
  });

  it('finds an issuer by id in any case', () => {
    expect(findBenchIssuer(BENCH_ISSUERS.citySm4.issuerId.toLowerCase())).toBe(BENCH_ISSUERS.citySm4);
    expect(findBenchIssuer('0000000000000000')).toBeUndefined();
  });
});
