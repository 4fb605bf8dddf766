// MNS150MI "User interface": GetUserData answers the service user's settings for the current
// session (company and division are the session's: the user's defaults unless cono/divi are sent).
import type { FieldDef } from '../tables.ts';
import { MiError, optional, ownFields, type ProgramDef, type TransactionDef } from './program.ts';

const USID = ownFields('USID A10 User')[0] as FieldDef;

const GET_USER_DATA_OUTPUTS = ownFields(`
  CONO N3 Company
  DIVI A3 Division
  LANC A2 Language
  DTFM A3 Date format
  DCFM A1 Decimal format
  TIZO A5 Time zone
  FACI A3 Facility
  WHLO A3 Warehouse
  CUNO A10 Customer
  DEPT A8 Department
  TX40 A40 Company name
  CONM A40 Division name
  MNVR A10 Menu version
  DFMN A10 Start menu
  USID A10 User
  NAME A36 Name
  EQAL A10 Equipment alias search sequense
  USTA A2 User status
  EMAL A60 Electronic mail address
  USTP A10 User type
  EUID A256 External user id
  PHNO A16 Telephone number
  TFNO A16 Facsimile transmission number
  FRF6 A30 Free field 1
  FRF7 A30 Free field 2
  FRF8 N17 Free field 3
  FADT D8 First active date
  LADT D8 Last active date
`);

const getUserData: TransactionDef = {
  name: 'GetUserData',
  description: 'Get user data',
  kind: 'get',
  inputs: optional(USID),
  outputs: GET_USER_DATA_OUTPUTS,
  run(call) {
    const { data } = call.env;
    const user = data.serviceUser;
    const asked = call.input('USID');
    if (asked !== '' && asked !== user.usid) throw new MiError('WUS0103', 'USID', `User ${asked} does not exist`);
    const company = data.company(call.company);
    const division = company?.divisions.find((d) => d.divi === call.division);
    return [
      {
        CONO: call.company,
        DIVI: call.division,
        LANC: user.language,
        DTFM: user.dateFormat,
        DCFM: user.decimalFormat,
        TIZO: user.timeZone,
        FACI: division?.facility ?? company?.divisions[0]?.facility ?? '',
        WHLO: division?.warehouse ?? company?.divisions[0]?.warehouse ?? '',
        TX40: company?.name ?? '',
        CONM: division?.name ?? '',
        USID: user.usid,
        NAME: user.name,
        USTA: '20',
        EMAL: user.email,
        USTP: 'SERVICE',
        EUID: `${user.usid.toLowerCase()}@service.example`,
        FADT: '20200101',
        LADT: '0',
      },
    ];
  },
};

export const MNS150MI: ProgramDef = {
  name: 'MNS150MI',
  description: 'User interface',
  transactions: [getUserData],
};
