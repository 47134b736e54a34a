package fmp4

// MaxFragmentSamples exports maxFragmentSamples to the black-box tests.
const MaxFragmentSamples = maxFragmentSamples

// Offsets returns where each sample's data starts in the parsed fragment.
func (p *ParsedFragment) Offsets() []int { return p.offsets }
