package bill

import (
	"strconv"
	"strings"
)

// TableRegion is the region of the embedded prices.
const TableRegion = "us-east-1"

// perLarge are public on-demand Linux prices in us-east-1, USD per hour, of
// the .large size of families whose price doubles with each size step
// (xlarge = 2 × large, 2xlarge = 4 × large, Nxlarge = 2N × large).
var perLarge = map[string]float64{
	"c4": 0.10, "c5": 0.085, "c5a": 0.077, "c5n": 0.108, "c6a": 0.0765, "c6g": 0.068, "c6i": 0.085,
	"c7a": 0.10264, "c7g": 0.0725, "c7i": 0.08925,
	"m4": 0.10, "m5": 0.096, "m5a": 0.086, "m5n": 0.119, "m6a": 0.0864, "m6g": 0.077, "m6i": 0.096,
	"m7a": 0.11592, "m7g": 0.0816, "m7i": 0.1008,
	"r4": 0.133, "r5": 0.126, "r5a": 0.113, "r5n": 0.149, "r6a": 0.1134, "r6g": 0.1008, "r6i": 0.126,
	"r7g": 0.1071, "r7i": 0.1323,
	"t2": 0.0928, "t3": 0.0832, "t3a": 0.0752,
}

// exact are the prices of sizes that do not follow the doubling (GPU,
// memory-heavy and burstable small sizes), USD per hour in us-east-1. The
// P4 and P5 figures are those published before AWS's June 2025 cut of up
// to 45% for those families: offline, their cost errs high.
var exact = map[string]float64{
	"t2.nano": 0.0058, "t2.micro": 0.0116, "t2.small": 0.023, "t2.medium": 0.0464,
	"t3.nano": 0.0052, "t3.micro": 0.0104, "t3.small": 0.0208, "t3.medium": 0.0416,
	"t3a.nano": 0.0047, "t3a.micro": 0.0094, "t3a.small": 0.0188, "t3a.medium": 0.0376,
	"m5.metal": 4.608, "c5.metal": 4.08, "r5.metal": 6.048, "c5.9xlarge": 1.53, "c5.18xlarge": 3.06,
	"p2.xlarge": 0.90, "p2.8xlarge": 7.20, "p2.16xlarge": 14.40,
	"p3.2xlarge": 3.06, "p3.8xlarge": 12.24, "p3.16xlarge": 24.48, "p3dn.24xlarge": 31.212,
	"p4d.24xlarge": 32.7726, "p4de.24xlarge": 40.9657,
	"p5.48xlarge": 98.32,
	"g3.4xlarge":  1.14, "g3.8xlarge": 2.28, "g3.16xlarge": 4.56,
	"g4dn.xlarge": 0.526, "g4dn.2xlarge": 0.752, "g4dn.4xlarge": 1.204, "g4dn.8xlarge": 2.176,
	"g4dn.12xlarge": 3.912, "g4dn.16xlarge": 4.352, "g4dn.metal": 7.824,
	"g4ad.xlarge": 0.37853, "g4ad.2xlarge": 0.54117, "g4ad.4xlarge": 0.867, "g4ad.8xlarge": 1.734, "g4ad.16xlarge": 3.468,
	"g5.xlarge": 1.006, "g5.2xlarge": 1.212, "g5.4xlarge": 1.624, "g5.8xlarge": 2.448,
	"g5.12xlarge": 5.672, "g5.16xlarge": 4.096, "g5.24xlarge": 8.144, "g5.48xlarge": 16.288,
	"g6.xlarge": 0.8048, "g6.2xlarge": 0.9776, "g6.4xlarge": 1.3232, "g6.8xlarge": 2.0144,
	"g6.12xlarge": 4.6016, "g6.16xlarge": 3.3968, "g6.24xlarge": 6.6752, "g6.48xlarge": 13.3504,
	"inf1.xlarge": 0.228, "inf1.2xlarge": 0.362, "inf1.6xlarge": 1.18, "inf1.24xlarge": 4.721,
	"inf2.xlarge": 0.7582, "inf2.8xlarge": 1.9679, "inf2.24xlarge": 6.4906, "inf2.48xlarge": 12.9813,
	"trn1.2xlarge": 1.34375, "trn1.32xlarge": 21.50,
	"x1.16xlarge": 6.669, "x1.32xlarge": 13.338,
	"x1e.xlarge": 0.834, "x1e.2xlarge": 1.668, "x1e.4xlarge": 3.336, "x1e.8xlarge": 6.672,
	"x1e.16xlarge": 13.344, "x1e.32xlarge": 26.688,
	"x2idn.16xlarge": 6.66904, "x2idn.24xlarge": 10.00356, "x2idn.32xlarge": 13.33808,
}

// TablePrice is the embedded on-demand Linux price of an instance type in
// us-east-1, USD per hour; false for a type the table does not hold.
func TablePrice(instanceType string) (float64, bool) {
	if p, ok := exact[instanceType]; ok {
		return p, true
	}
	family, size, ok := strings.Cut(instanceType, ".")
	if !ok {
		return 0, false
	}
	base, ok := perLarge[family]
	if !ok {
		return 0, false
	}
	switch size {
	case "large":
		return base, true
	case "xlarge":
		return 2 * base, true
	}
	n, ok := strings.CutSuffix(size, "xlarge")
	if !ok {
		return 0, false
	}
	k, err := strconv.Atoi(n)
	if err != nil || k < 2 || k > 48 {
		return 0, false
	}
	return float64(2*k) * base, true
}
