package address

// The lookup tables below follow USPS Publication 28. Every key is an upper-case token with
// punctuation already stripped, so each parser step is one map lookup per token.

// suffixes maps the common and variant spellings of street suffixes (Pub 28 Appendix C1) to the
// Postal Service standard abbreviation.
var suffixes = buildTable(map[string][]string{
	"ALY":  {"ALLEE", "ALLEY", "ALLY", "ALY"},
	"ANX":  {"ANEX", "ANNEX", "ANNX", "ANX"},
	"ARC":  {"ARC", "ARCADE"},
	"AVE":  {"AV", "AVE", "AVEN", "AVENU", "AVENUE", "AVN", "AVNUE"},
	"BYU":  {"BAYOO", "BAYOU", "BYU"},
	"BCH":  {"BCH", "BEACH"},
	"BND":  {"BEND", "BND"},
	"BLF":  {"BLF", "BLUF", "BLUFF"},
	"BLFS": {"BLFS", "BLUFFS"},
	"BTM":  {"BOT", "BTM", "BOTTM", "BOTTOM"},
	"BLVD": {"BLVD", "BOUL", "BOULEVARD", "BOULV", "BLVRD", "BVD"},
	"BR":   {"BR", "BRNCH", "BRANCH"},
	"BRG":  {"BRDGE", "BRG", "BRIDGE"},
	"BRK":  {"BRK", "BROOK"},
	"BRKS": {"BRKS", "BROOKS"},
	"BG":   {"BURG", "BG"},
	"BGS":  {"BURGS", "BGS"},
	"BYP":  {"BYP", "BYPA", "BYPAS", "BYPASS", "BYPS"},
	"CP":   {"CAMP", "CP", "CMP"},
	"CYN":  {"CANYN", "CANYON", "CNYN", "CYN"},
	"CPE":  {"CAPE", "CPE"},
	"CSWY": {"CAUSEWAY", "CAUSWA", "CSWY"},
	"CTR":  {"CEN", "CENT", "CENTER", "CENTR", "CENTRE", "CNTER", "CNTR", "CTR"},
	"CTRS": {"CENTERS", "CTRS"},
	"CIR":  {"CIR", "CIRC", "CIRCL", "CIRCLE", "CRCL", "CRCLE"},
	"CIRS": {"CIRCLES", "CIRS"},
	"CLF":  {"CLF", "CLIFF"},
	"CLFS": {"CLFS", "CLIFFS"},
	"CLB":  {"CLB", "CLUB"},
	"CMN":  {"COMMON", "CMN"},
	"CMNS": {"COMMONS", "CMNS"},
	"COR":  {"COR", "CORNER"},
	"CORS": {"CORNERS", "CORS"},
	"CRSE": {"COURSE", "CRSE"},
	"CT":   {"COURT", "CT", "CRT"},
	"CTS":  {"COURTS", "CTS"},
	"CV":   {"COVE", "CV"},
	"CVS":  {"COVES", "CVS"},
	"CRK":  {"CREEK", "CRK"},
	"CRES": {"CRESCENT", "CRES", "CRSENT", "CRSNT"},
	"CRST": {"CREST", "CRST"},
	"XING": {"CROSSING", "CRSSNG", "XING"},
	"XRD":  {"CROSSROAD", "XRD"},
	"XRDS": {"CROSSROADS", "XRDS"},
	"CURV": {"CURVE", "CURV"},
	"DL":   {"DALE", "DL"},
	"DM":   {"DAM", "DM"},
	"DV":   {"DIV", "DIVIDE", "DV", "DVD"},
	"DR":   {"DR", "DRIV", "DRIVE", "DRV"},
	"DRS":  {"DRIVES", "DRS"},
	"EST":  {"EST", "ESTATE"},
	"ESTS": {"ESTATES", "ESTS"},
	"EXPY": {"EXP", "EXPR", "EXPRESS", "EXPRESSWAY", "EXPW", "EXPY"},
	"EXT":  {"EXT", "EXTENSION", "EXTN", "EXTNSN"},
	"EXTS": {"EXTS", "EXTENSIONS"},
	"FALL": {"FALL"},
	"FLS":  {"FALLS", "FLS"},
	"FRY":  {"FERRY", "FRRY", "FRY"},
	"FLD":  {"FIELD", "FLD"},
	"FLDS": {"FIELDS", "FLDS"},
	"FLT":  {"FLAT", "FLT"},
	"FLTS": {"FLATS", "FLTS"},
	"FRD":  {"FORD", "FRD"},
	"FRDS": {"FORDS", "FRDS"},
	"FRST": {"FOREST", "FORESTS", "FRST"},
	"FRG":  {"FORG", "FORGE", "FRG"},
	"FRGS": {"FORGES", "FRGS"},
	"FRK":  {"FORK", "FRK"},
	"FRKS": {"FORKS", "FRKS"},
	"FT":   {"FORT", "FRT", "FT"},
	"FWY":  {"FREEWAY", "FREEWY", "FRWAY", "FRWY", "FWY"},
	"GDN":  {"GARDEN", "GARDN", "GRDEN", "GRDN", "GDN"},
	"GDNS": {"GARDENS", "GDNS", "GRDNS"},
	"GTWY": {"GATEWAY", "GATEWY", "GATWAY", "GTWAY", "GTWY"},
	"GLN":  {"GLEN", "GLN"},
	"GLNS": {"GLENS", "GLNS"},
	"GRN":  {"GREEN", "GRN"},
	"GRNS": {"GREENS", "GRNS"},
	"GRV":  {"GROV", "GROVE", "GRV"},
	"GRVS": {"GROVES", "GRVS"},
	"HBR":  {"HARB", "HARBOR", "HARBR", "HBR", "HRBOR"},
	"HBRS": {"HARBORS", "HBRS"},
	"HVN":  {"HAVEN", "HVN"},
	"HTS":  {"HT", "HTS", "HEIGHTS", "HGTS"},
	"HWY":  {"HIGHWAY", "HIGHWY", "HIWAY", "HIWY", "HWAY", "HWY"},
	"HL":   {"HILL", "HL"},
	"HLS":  {"HILLS", "HLS"},
	"HOLW": {"HLLW", "HOLLOW", "HOLLOWS", "HOLW", "HOLWS"},
	"INLT": {"INLT", "INLET"},
	"IS":   {"IS", "ISLAND", "ISLND"},
	"ISS":  {"ISLANDS", "ISLNDS", "ISS"},
	"ISLE": {"ISLE", "ISLES"},
	"JCT":  {"JCT", "JCTION", "JCTN", "JUNCTION", "JUNCTN", "JUNCTON"},
	"JCTS": {"JCTNS", "JCTS", "JUNCTIONS"},
	"KY":   {"KEY", "KY"},
	"KYS":  {"KEYS", "KYS"},
	"KNL":  {"KNL", "KNOL", "KNOLL"},
	"KNLS": {"KNLS", "KNOLLS"},
	"LK":   {"LK", "LAKE"},
	"LKS":  {"LKS", "LAKES"},
	"LAND": {"LAND"},
	"LNDG": {"LANDING", "LNDG", "LNDNG"},
	"LN":   {"LANE", "LN", "LA"},
	"LGT":  {"LGT", "LIGHT"},
	"LGTS": {"LIGHTS", "LGTS"},
	"LF":   {"LF", "LOAF"},
	"LCK":  {"LCK", "LOCK"},
	"LCKS": {"LCKS", "LOCKS"},
	"LDG":  {"LDG", "LDGE", "LODG", "LODGE"},
	"LOOP": {"LOOP", "LOOPS"},
	"MALL": {"MALL"},
	"MNR":  {"MNR", "MANOR"},
	"MNRS": {"MANORS", "MNRS"},
	"MDW":  {"MEADOW", "MDW"},
	"MDWS": {"MDWS", "MEADOWS", "MEDOWS"},
	"MEWS": {"MEWS"},
	"ML":   {"MILL", "ML"},
	"MLS":  {"MILLS", "MLS"},
	"MSN":  {"MISSN", "MSSN", "MISSION", "MSN"},
	"MTWY": {"MOTORWAY", "MTWY"},
	"MT":   {"MNT", "MT", "MOUNT"},
	"MTN":  {"MNTAIN", "MNTN", "MOUNTAIN", "MOUNTIN", "MTIN", "MTN"},
	"MTNS": {"MNTNS", "MOUNTAINS", "MTNS"},
	"NCK":  {"NCK", "NECK"},
	"ORCH": {"ORCH", "ORCHARD", "ORCHRD"},
	"OVAL": {"OVAL", "OVL"},
	"OPAS": {"OVERPASS", "OPAS"},
	"PARK": {"PARK", "PRK", "PARKS"},
	"PKWY": {"PARKWAY", "PARKWY", "PKWAY", "PKWY", "PKY", "PARKWAYS", "PKWYS"},
	"PASS": {"PASS"},
	"PSGE": {"PASSAGE", "PSGE"},
	"PATH": {"PATH", "PATHS"},
	"PIKE": {"PIKE", "PIKES"},
	"PNE":  {"PINE", "PNE"},
	"PNES": {"PINES", "PNES"},
	"PL":   {"PL", "PLACE", "PLC"},
	"PLN":  {"PLAIN", "PLN"},
	"PLNS": {"PLAINS", "PLNS"},
	"PLZ":  {"PLAZA", "PLZ", "PLZA"},
	"PT":   {"POINT", "PT"},
	"PTS":  {"POINTS", "PTS"},
	"PRT":  {"PORT", "PRT"},
	"PRTS": {"PORTS", "PRTS"},
	"PR":   {"PR", "PRAIRIE", "PRR"},
	"RADL": {"RAD", "RADIAL", "RADIEL", "RADL"},
	"RAMP": {"RAMP"},
	"RNCH": {"RANCH", "RANCHES", "RNCH", "RNCHS"},
	"RPD":  {"RAPID", "RPD"},
	"RPDS": {"RAPIDS", "RPDS"},
	"RST":  {"REST", "RST"},
	"RDG":  {"RDG", "RDGE", "RIDGE"},
	"RDGS": {"RDGS", "RIDGES"},
	"RIV":  {"RIV", "RIVER", "RVR", "RIVR"},
	"RD":   {"RD", "ROAD"},
	"RDS":  {"ROADS", "RDS"},
	"RTE":  {"ROUTE", "RTE"},
	"ROW":  {"ROW"},
	"RUE":  {"RUE"},
	"RUN":  {"RUN"},
	"SHL":  {"SHL", "SHOAL"},
	"SHLS": {"SHLS", "SHOALS"},
	"SHR":  {"SHOAR", "SHORE", "SHR"},
	"SHRS": {"SHOARS", "SHORES", "SHRS"},
	"SKWY": {"SKYWAY", "SKWY"},
	"SPG":  {"SPG", "SPNG", "SPRING", "SPRNG"},
	"SPGS": {"SPGS", "SPNGS", "SPRINGS", "SPRNGS"},
	"SPUR": {"SPUR", "SPURS"},
	"SQ":   {"SQ", "SQR", "SQRE", "SQU", "SQUARE"},
	"SQS":  {"SQRS", "SQUARES", "SQS"},
	"STA":  {"STA", "STATION", "STATN", "STN"},
	"STRA": {"STRA", "STRAV", "STRAVEN", "STRAVENUE", "STRAVN", "STRVN", "STRVNUE"},
	"STRM": {"STREAM", "STREME", "STRM"},
	"ST":   {"STREET", "STRT", "ST", "STR", "STREE"},
	"STS":  {"STREETS", "STS"},
	"SMT":  {"SMT", "SUMIT", "SUMITT", "SUMMIT"},
	"TER":  {"TER", "TERR", "TERRACE"},
	"TRWY": {"THROUGHWAY", "TRWY"},
	"TRCE": {"TRACE", "TRACES", "TRCE"},
	"TRAK": {"TRACK", "TRACKS", "TRAK", "TRK", "TRKS"},
	"TRFY": {"TRAFFICWAY", "TRFY"},
	"TRL":  {"TRAIL", "TRAILS", "TRL", "TRLS"},
	"TUNL": {"TUNEL", "TUNL", "TUNLS", "TUNNEL", "TUNNELS", "TUNNL"},
	"TPKE": {"TRNPK", "TURNPIKE", "TURNPK", "TPKE"},
	"UPAS": {"UNDERPASS", "UPAS"},
	"VLY":  {"VALLEY", "VALLY", "VLLY", "VLY"},
	"VLYS": {"VALLEYS", "VLYS"},
	"VIA":  {"VDCT", "VIA", "VIADCT", "VIADUCT"},
	"VW":   {"VIEW", "VW"},
	"VWS":  {"VIEWS", "VWS"},
	"VLG":  {"VILL", "VILLAG", "VILLAGE", "VILLG", "VILLIAGE", "VLG"},
	"VLGS": {"VILLAGES", "VLGS"},
	"VL":   {"VILLE", "VL"},
	"VIS":  {"VIS", "VIST", "VISTA", "VST", "VSTA"},
	"WALK": {"WALK", "WALKS"},
	"WALL": {"WALL"},
	"WAY":  {"WY", "WAY"},
	"WAYS": {"WAYS"},
	"WL":   {"WELL", "WL"},
	"WLS":  {"WELLS", "WLS"},
})

// routeSuffixes are suffixes that are followed by a route number ("OLD HWY 5"), so a number
// after them is part of the street name, never an unlabeled unit.
var routeSuffixes = map[string]bool{
	"HWY": true, "RTE": true, "RD": true, "FWY": true, "EXPY": true, "PIKE": true,
	"TPKE": true, "BYP": true, "MTWY": true, "SKWY": true, "TRWY": true,
}

// directionals maps spelled-out and abbreviated directionals to the Pub 28 abbreviation.
var directionals = map[string]string{
	"N": "N", "NORTH": "N", "S": "S", "SOUTH": "S", "E": "E", "EAST": "E", "W": "W", "WEST": "W",
	"NE": "NE", "NORTHEAST": "NE", "NW": "NW", "NORTHWEST": "NW",
	"SE": "SE", "SOUTHEAST": "SE", "SW": "SW", "SOUTHWEST": "SW",
}

// unitDesignator is a Pub 28 Appendix C2 secondary unit designator.
type unitDesignator struct {
	abbr        string
	needsNumber bool // APT needs "APT 4"; REAR stands alone
}

// unitDesignators maps spellings of secondary unit designators to their C2 abbreviation.
var unitDesignators = func() map[string]unitDesignator {
	ranged := map[string][]string{
		"APT":  {"APARTMENT", "APT", "APRT", "APTMT"},
		"BLDG": {"BUILDING", "BLDG", "BLDNG"},
		"DEPT": {"DEPARTMENT", "DEPT"},
		"FL":   {"FLOOR", "FL", "FLR"},
		"HNGR": {"HANGAR", "HNGR"},
		"KEY":  {"KEY"},
		"LOT":  {"LOT"},
		"PIER": {"PIER"},
		"RM":   {"ROOM", "RM"},
		"SLIP": {"SLIP"},
		"SPC":  {"SPACE", "SPC"},
		"STOP": {"STOP"},
		"STE":  {"SUITE", "STE", "SUIT"},
		"TRLR": {"TRAILER", "TRLR"},
		"UNIT": {"UNIT", "UNT"},
		"PMB":  {"PMB"},
	}
	alone := map[string][]string{
		"BSMT": {"BASEMENT", "BSMT"},
		"FRNT": {"FRONT", "FRNT"},
		"LBBY": {"LOBBY", "LBBY"},
		"LOWR": {"LOWER", "LOWR"},
		"OFC":  {"OFFICE", "OFC"},
		"PH":   {"PENTHOUSE", "PH"},
		"REAR": {"REAR"},
		"SIDE": {"SIDE"},
		"UPPR": {"UPPER", "UPPR"},
	}
	m := make(map[string]unitDesignator)
	for abbr, spellings := range ranged {
		for _, s := range spellings {
			m[s] = unitDesignator{abbr: abbr, needsNumber: true}
		}
	}
	for abbr, spellings := range alone {
		for _, s := range spellings {
			m[s] = unitDesignator{abbr: abbr}
		}
	}
	return m
}()

// ordinals turns spelled-out ordinal street names into Pub 28's numeric form.
var ordinals = map[string]string{
	"FIRST": "1ST", "SECOND": "2ND", "THIRD": "3RD", "FOURTH": "4TH", "FIFTH": "5TH",
	"SIXTH": "6TH", "SEVENTH": "7TH", "EIGHTH": "8TH", "NINTH": "9TH", "TENTH": "10TH",
	"ELEVENTH": "11TH", "TWELFTH": "12TH", "THIRTEENTH": "13TH", "FOURTEENTH": "14TH",
	"FIFTEENTH": "15TH", "SIXTEENTH": "16TH", "SEVENTEENTH": "17TH", "EIGHTEENTH": "18TH",
	"NINETEENTH": "19TH", "TWENTIETH": "20TH", "THIRTIETH": "30TH", "FORTIETH": "40TH",
	"FIFTIETH": "50TH", "SIXTIETH": "60TH", "SEVENTIETH": "70TH", "EIGHTIETH": "80TH",
	"NINETIETH": "90TH", "HUNDREDTH": "100TH",
}

// routePrefixes maps the spellings of numbered-route names (Pub 28 section on highways) to the
// form kept in the street name; a route number must follow them.
var routePrefixes = map[string]string{
	"HIGHWAY": "HWY", "HWY": "HWY", "HIWAY": "HWY", "HIGHWY": "HWY", "HWAY": "HWY", "HIWY": "HWY",
	"US HIGHWAY": "US HIGHWAY", "US HWY": "US HIGHWAY", "US": "US HIGHWAY", "USHWY": "US HIGHWAY",
	"US ROUTE": "US HIGHWAY", "US RTE": "US HIGHWAY", "UNITED STATES HIGHWAY": "US HIGHWAY",
	"STATE HIGHWAY": "STATE HIGHWAY", "STATE HWY": "STATE HIGHWAY", "ST HWY": "STATE HIGHWAY",
	"SH":          "STATE HIGHWAY",
	"STATE ROUTE": "STATE ROUTE", "STATE RTE": "STATE ROUTE", "ST RTE": "STATE ROUTE",
	"ST RT": "STATE ROUTE", "SR": "STATE ROUTE", "STATE RT": "STATE ROUTE",
	"STATE ROAD": "STATE ROAD", "STATE RD": "STATE ROAD", "ST RD": "STATE ROAD",
	"COUNTY ROAD": "COUNTY ROAD", "COUNTY RD": "COUNTY ROAD", "CO RD": "COUNTY ROAD",
	"CR": "COUNTY ROAD", "CNTY RD": "COUNTY ROAD", "CTY RD": "COUNTY ROAD", "CORD": "COUNTY ROAD",
	"COUNTY ROUTE": "COUNTY ROUTE", "CO RTE": "COUNTY ROUTE", "COUNTY RTE": "COUNTY ROUTE",
	"COUNTY HIGHWAY": "COUNTY HIGHWAY", "COUNTY HWY": "COUNTY HIGHWAY", "CO HWY": "COUNTY HIGHWAY",
	"ROUTE": "ROUTE", "RTE": "ROUTE", "RT": "ROUTE",
	"INTERSTATE": "INTERSTATE", "I": "INTERSTATE", "INTERSTATE HIGHWAY": "INTERSTATE",
	"TOWNSHIP ROAD": "TOWNSHIP ROAD", "TOWNSHIP RD": "TOWNSHIP ROAD", "TWP RD": "TOWNSHIP ROAD",
	"FARM TO MARKET": "FM", "FARM TO MARKET ROAD": "FM", "FM": "FM", "FM RD": "FM",
	"RANCH ROAD": "RANCH ROAD", "RANCH RD": "RANCH ROAD",
}

// routeFirstWords lets the parser skip route matching cheaply for ordinary street names.
var routeFirstWords = func() map[string]bool {
	m := make(map[string]bool)
	for k := range routePrefixes {
		first := k
		for i := 0; i < len(k); i++ {
			if k[i] == ' ' {
				first = k[:i]
				break
			}
		}
		m[first] = true
	}
	return m
}()

// states maps two-letter codes, full names and common old abbreviations of US states, DC,
// territories and military "states" to the two-letter USPS code.
var states = func() map[string]string {
	names := map[string]string{
		"AL": "ALABAMA", "AK": "ALASKA", "AZ": "ARIZONA", "AR": "ARKANSAS", "CA": "CALIFORNIA",
		"CO": "COLORADO", "CT": "CONNECTICUT", "DE": "DELAWARE", "FL": "FLORIDA", "GA": "GEORGIA",
		"HI": "HAWAII", "ID": "IDAHO", "IL": "ILLINOIS", "IN": "INDIANA", "IA": "IOWA",
		"KS": "KANSAS", "KY": "KENTUCKY", "LA": "LOUISIANA", "ME": "MAINE", "MD": "MARYLAND",
		"MA": "MASSACHUSETTS", "MI": "MICHIGAN", "MN": "MINNESOTA", "MS": "MISSISSIPPI",
		"MO": "MISSOURI", "MT": "MONTANA", "NE": "NEBRASKA", "NV": "NEVADA", "NH": "NEW HAMPSHIRE",
		"NJ": "NEW JERSEY", "NM": "NEW MEXICO", "NY": "NEW YORK", "NC": "NORTH CAROLINA",
		"ND": "NORTH DAKOTA", "OH": "OHIO", "OK": "OKLAHOMA", "OR": "OREGON", "PA": "PENNSYLVANIA",
		"RI": "RHODE ISLAND", "SC": "SOUTH CAROLINA", "SD": "SOUTH DAKOTA", "TN": "TENNESSEE",
		"TX": "TEXAS", "UT": "UTAH", "VT": "VERMONT", "VA": "VIRGINIA", "WA": "WASHINGTON",
		"WV": "WEST VIRGINIA", "WI": "WISCONSIN", "WY": "WYOMING",
		"DC": "DISTRICT OF COLUMBIA", "PR": "PUERTO RICO", "GU": "GUAM", "VI": "VIRGIN ISLANDS",
		"AS": "AMERICAN SAMOA", "MP": "NORTHERN MARIANA ISLANDS", "FM": "FEDERATED STATES OF MICRONESIA",
		"MH": "MARSHALL ISLANDS", "PW": "PALAU",
		"AA": "ARMED FORCES AMERICAS", "AE": "ARMED FORCES EUROPE", "AP": "ARMED FORCES PACIFIC",
	}
	variants := map[string]string{
		"US VIRGIN ISLANDS": "VI", "U S VIRGIN ISLANDS": "VI", "WASHINGTON DC": "DC", "D C": "DC",
		"NORTHERN MARIANAS": "MP", "MICRONESIA": "FM",
		"ALA": "AL", "ARIZ": "AZ", "ARK": "AR", "CALIF": "CA", "CAL": "CA", "COLO": "CO",
		"CONN": "CT", "DEL": "DE", "FLA": "FL", "ILL": "IL", "IND": "IN", "KANS": "KS", "KAN": "KS",
		"MASS": "MA", "MICH": "MI", "MINN": "MN", "MISS": "MS", "MONT": "MT", "NEBR": "NE",
		"NEV": "NV", "OKLA": "OK", "OREG": "OR", "ORE": "OR", "PENN": "PA", "PENNA": "PA",
		"TENN": "TN", "TEX": "TX", "WASH": "WA", "WIS": "WI", "WISC": "WI", "WYO": "WY",
		"N DAK": "ND", "S DAK": "SD", "W VA": "WV", "N C": "NC", "S C": "SC",
	}
	m := make(map[string]string, 2*len(names)+len(variants))
	for code, name := range names {
		m[code] = code
		m[name] = code
	}
	for v, code := range variants {
		m[v] = code
	}
	return m
}()

// maxStateWords is the longest state name in tokens ("FEDERATED STATES OF MICRONESIA").
const maxStateWords = 4

func buildTable(groups map[string][]string) map[string]string {
	m := make(map[string]string)
	for abbr, spellings := range groups {
		for _, s := range spellings {
			m[s] = abbr
		}
	}
	return m
}
