package attomsim

// stateCentroid is a rough geographic centre and a two-digit FIPS code per state, enough to
// put synthetic properties in the right part of the map.
type stateCentroid struct {
	FIPS     string
	Lat, Lon float64
	// Judicial states file lis pendens; the others notices of default.
	Judicial bool
}

var stateCentroids = map[string]stateCentroid{
	"AL": {"01", 32.8, -86.8, false}, "AK": {"02", 61.4, -150.0, false}, "AZ": {"04", 33.7, -111.9, false},
	"AR": {"05", 34.9, -92.4, false}, "CA": {"06", 36.1, -119.7, false}, "CO": {"08", 39.1, -105.3, false},
	"CT": {"09", 41.6, -72.8, true}, "DE": {"10", 39.3, -75.5, true}, "DC": {"11", 38.9, -77.0, false},
	"FL": {"12", 27.8, -81.7, true}, "GA": {"13", 33.0, -83.6, false}, "HI": {"15", 21.1, -157.5, true},
	"ID": {"16", 44.2, -114.5, false}, "IL": {"17", 40.3, -89.0, true}, "IN": {"18", 39.8, -86.3, true},
	"IA": {"19", 42.0, -93.2, true}, "KS": {"20", 38.5, -96.7, true}, "KY": {"21", 37.7, -84.7, true},
	"LA": {"22", 31.2, -91.9, true}, "ME": {"23", 44.7, -69.4, true}, "MD": {"24", 39.1, -76.8, false},
	"MA": {"25", 42.2, -71.5, false}, "MI": {"26", 43.3, -84.5, false}, "MN": {"27", 45.7, -93.9, false},
	"MS": {"28", 32.7, -89.7, false}, "MO": {"29", 38.5, -92.3, false}, "MT": {"30", 46.9, -110.5, false},
	"NE": {"31", 41.1, -98.3, true}, "NV": {"32", 38.3, -117.1, false}, "NH": {"33", 43.5, -71.6, false},
	"NJ": {"34", 40.3, -74.5, true}, "NM": {"35", 34.8, -106.2, true}, "NY": {"36", 42.2, -74.9, true},
	"NC": {"37", 35.6, -79.8, false}, "ND": {"38", 47.5, -99.8, true}, "OH": {"39", 40.4, -82.8, true},
	"OK": {"40", 35.6, -96.9, true}, "OR": {"41", 44.6, -122.1, false}, "PA": {"42", 40.6, -77.2, true},
	"RI": {"44", 41.7, -71.5, false}, "SC": {"45", 33.9, -80.9, true}, "SD": {"46", 44.3, -99.4, true},
	"TN": {"47", 35.7, -86.7, false}, "TX": {"48", 31.1, -97.6, false}, "UT": {"49", 40.2, -111.9, false},
	"VT": {"50", 44.0, -72.7, true}, "VA": {"51", 37.8, -78.2, false}, "WA": {"53", 47.4, -121.5, false},
	"WV": {"54", 38.5, -81.0, false}, "WI": {"55", 44.3, -89.6, true}, "WY": {"56", 42.8, -107.3, false},
}

// fallbackPlaces give an address with an unreadable line 2 a plausible home.
var fallbackPlaces = []struct{ City, State, ZIP string }{
	{"SPRINGFIELD", "IL", "62701"}, {"COLUMBUS", "OH", "43215"}, {"PHOENIX", "AZ", "85004"},
	{"TAMPA", "FL", "33602"}, {"DALLAS", "TX", "75201"}, {"ATLANTA", "GA", "30303"},
	{"DENVER", "CO", "80202"}, {"SACRAMENTO", "CA", "95814"}, {"CHARLOTTE", "NC", "28202"},
	{"DETROIT", "MI", "48226"},
}

var firstNames = []string{"JOHN", "MARY", "ROBERT", "PATRICIA", "MICHAEL", "JENNIFER", "WILLIAM",
	"LINDA", "DAVID", "ELIZABETH", "JAMES", "BARBARA", "RICHARD", "SUSAN", "JOSEPH", "JESSICA",
	"THOMAS", "SARAH", "CARLOS", "MARIA", "WEI", "ANH", "DARNELL", "KEISHA"}

var lastNames = []string{"SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER",
	"DAVIS", "RODRIGUEZ", "MARTINEZ", "HERNANDEZ", "LOPEZ", "WILSON", "ANDERSON", "THOMAS",
	"TAYLOR", "MOORE", "JACKSON", "NGUYEN", "CHEN", "WASHINGTON", "OBRIEN", "KOWALSKI", "PATEL"}

var companyWords = []string{"OAK RIDGE", "BLUE SKY", "SUMMIT", "PINNACLE", "CEDAR", "HARBOR",
	"KEYSTONE", "REDWOOD", "LIBERTY", "MAPLE LEAF", "IRON GATE", "SILVER LAKE"}

var companyKinds = []string{"HOLDINGS LLC", "PROPERTIES LLC", "INVESTMENTS LLC", "REALTY LLC",
	"CAPITAL LP", "HOMES INC"}

var banks = []string{"WELLS FARGO BANK NA", "US BANK NATIONAL ASSOCIATION", "FEDERAL NATIONAL MORTGAGE ASSOCIATION",
	"DEUTSCHE BANK NATIONAL TRUST COMPANY", "BANK OF AMERICA NA", "FEDERAL HOME LOAN MORTGAGE CORPORATION"}

var lenders = []string{"WELLS FARGO", "QUICKEN LOANS", "BANK OF AMERICA", "JPMORGAN CHASE",
	"UNITED WHOLESALE MORTGAGE", "US BANK", "FREEDOM MORTGAGE", "LOANDEPOT", "NAVY FEDERAL CU"}

var streetNames = []string{"MAIN", "OAK", "PINE", "MAPLE", "CEDAR", "ELM", "WASHINGTON", "LAKE",
	"HILL", "PARK", "SUNSET", "RIVER", "CHURCH", "MILL", "FOREST", "HIGHLAND"}

var streetSuffixes = []string{"ST", "AVE", "RD", "DR", "LN", "CT", "BLVD", "WAY", "PL"}

// propertyKinds are ATTOM's classifications with how common each is in a lead list.
var propertyKinds = []struct {
	Share                              float64
	Class, Type, PropertyType, LandUse string
}{
	{0.70, "Single Family Residence / Townhouse", "SFR", "SINGLE FAMILY RESIDENCE", "SFR"},
	{0.12, "Apartment / Condominium", "CONDOMINIUM", "CONDOMINIUM", "CONDOMINIUM"},
	{0.08, "Single Family Residence / Townhouse", "TOWNHOUSE", "TOWNHOUSE/ROWHOUSE", "TOWNHOUSE/ROWHOUSE"},
	{0.06, "Multi-Family Dwellings (Generic, 2-4 Units)", "DUPLEX", "DUPLEX", "DUPLEX"},
	{0.04, "Mobile Home", "MOBILE HOME", "MOBILE HOME", "MOBILE HOME"},
}
