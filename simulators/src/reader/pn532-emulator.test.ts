import { M1_LAYOUT, mifare } from '@busfare/shared-protocol';
import { type MifareContext, PN532_COMMAND, Pn532Link, runMifarePseudoApdu } from '@busfare/terminal';
import { describe, expect, it } from 'vitest';
import { BENCH_M1_ISSUER, m1SectorKey } from '../psam/m1-keys.js';
import { VirtualM1Card } from '../cards/virtual-m1-card.js';
import { Pn532Emulator } from './pn532-emulator.js';

function m1Card(): VirtualM1Card {
  return new VirtualM1Card({ uid: Uint8Array.of(0x5a, 0x01, 0x02, 0x03), cardSerial: '10000001', balanceFen: 1000, cardTypeCode: 1, startDate: '20240101', expiryDate: '20301231' });
}

/** Joins a link and an emulator in memory, delivering each write on the next turn of the event loop. */
function joined() {
  let emulator: Pn532Emulator | undefined;
  const link = new Pn532Link({ write: (bytes) => setImmediate(() => emulator!.receive(bytes.slice())) }, { ackTimeoutMs: 50, responseTimeoutMs: 200 });
  emulator = new Pn532Emulator((bytes) => setImmediate(() => link.receive(bytes.slice())));
  return { link, emulator };
}

describe('Pn532Emulator with the serial reader MIFARE translation', () => {
  it('matches ACS pseudo-APDU results', async () => {
    const direct = m1Card();
    const viaModule = m1Card();
    const { link, emulator } = joined();
    emulator.present(viaModule);
    expect((await link.command(PN532_COMMAND.InListPassiveTarget, Uint8Array.of(1, 0)))[0]).toBe(1);
    const context: MifareContext = { uid: viaModule.uid, keySlots: [undefined, undefined] };
    const exchange = async (command: Uint8Array) => {
      const answer = await link.command(PN532_COMMAND.InDataExchange, Uint8Array.from([1, ...command]));
      return answer[0] === 0 ? answer.slice(1) : ('refused' as const);
    };
    const purseSector = Math.floor(M1_LAYOUT.primaryValueBlock / 4);
    const key = m1SectorKey(BENCH_M1_ISSUER.sectorMasterKey, viaModule.uid, purseSector);
    const wrongKey = new Uint8Array(6);
    const block = M1_LAYOUT.primaryValueBlock;
    const apdus = [
      mifare.getUid(),
      mifare.readBlock(block),
      mifare.loadKey(1, wrongKey),
      mifare.authenticate(block, 'A', 1),
      mifare.loadKey(0, key),
      mifare.authenticate(block, 'A', 0),
      mifare.readBlock(block),
      mifare.readValue(block),
      mifare.valueOperation(block, 'decrement', 200),
      mifare.readValue(block),
      mifare.valueOperation(block, 'increment', 100),
      mifare.restoreValue(block, M1_LAYOUT.backupValueBlock),
      mifare.readBlock(block - (block % 4)),
      mifare.writeBlock(block, mifare.encodeValueBlock(700, block)),
      mifare.readValue(block),
      mifare.readBlock(block - (block % 4) + 3),
    ];
    const answers: [string, string][] = [];
    for (const apdu of apdus) {
      const expected = Buffer.from(direct.process(apdu)).toString('hex');
      const actual = Buffer.from(await runMifarePseudoApdu(apdu, context, exchange)).toString('hex');
      answers.push([expected, actual]);
    }
    for (const [expected, actual] of answers) expect(actual).toBe(expected);
    expect(answers.filter(([expected]) => expected === '6300').length).toBeGreaterThanOrEqual(3);
    expect(viaModule.balanceFen).toBe(700);
    expect(viaModule.block(M1_LAYOUT.backupValueBlock)).toEqual(direct.block(M1_LAYOUT.backupValueBlock));
  });

  it('reports time-out after a tear', async () => {
    const { link, emulator } = joined();
    emulator.present(m1Card());
    expect((await link.command(PN532_COMMAND.InListPassiveTarget, Uint8Array.of(1, 0)))[0]).toBe(1);
    emulator.tearAt((command) => command[0] === 0x30, 'before-card');
    expect(await link.command(PN532_COMMAND.InDataExchange, Uint8Array.of(1, 0x30, 4))).toEqual(Uint8Array.of(0x01));
    expect(await link.command(PN532_COMMAND.InListPassiveTarget, Uint8Array.of(1, 0))).toEqual(Uint8Array.of(0));
  });

  it('keeps a new card silent until InListPassiveTarget', async () => {
    const { link, emulator } = joined();
    emulator.present(m1Card());
    expect(await link.command(PN532_COMMAND.InDataExchange, Uint8Array.of(1, 0x30, 4))).toEqual(Uint8Array.of(0x01));
    expect((await link.command(PN532_COMMAND.InListPassiveTarget, Uint8Array.of(1, 0)))[0]).toBe(1);
    expect(await link.command(0x00, Uint8Array.of(0x06))).toEqual(Uint8Array.of(0x00));

    // A card put in the field in place of the listed one is idle again.
    emulator.present(m1Card());
    expect(await link.command(PN532_COMMAND.InDataExchange, Uint8Array.of(1, 0x30, 0))).toEqual(Uint8Array.of(0x01));
    expect(await link.command(0x00, Uint8Array.of(0x06))).toEqual(Uint8Array.of(0x01));
  });

  it('refuses authentication with another UID', async () => {
    const { link, emulator } = joined();
    const card = m1Card();
    emulator.present(card);
    expect((await link.command(PN532_COMMAND.InListPassiveTarget, Uint8Array.of(1, 0)))[0]).toBe(1);
    const block = M1_LAYOUT.primaryValueBlock;
    const key = m1SectorKey(BENCH_M1_ISSUER.sectorMasterKey, card.uid, Math.floor(block / 4));
    const authenticate = (uid: Uint8Array) => link.command(PN532_COMMAND.InDataExchange, Uint8Array.from([1, 0x60, block, ...key, ...uid]));

    expect(await authenticate(Uint8Array.of(0x5a, 0x01, 0x02, 0x04))).toEqual(Uint8Array.of(0x14));
    expect(await authenticate(card.uid)).toEqual(Uint8Array.of(0x00));
  });
});
