package attribution

// DefaultModels are every model with its default settings, in the order a
// side-by-side report lists them.
func DefaultModels() []Model {
	return []Model{
		FirstTouch{}, LastTouch{}, LastNonDirect{}, Linear{}, TimeDecay{},
		PositionBased{}, WShaped{}, FullPath{},
	}
}
