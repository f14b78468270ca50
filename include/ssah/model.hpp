#pragma once
/// \file
/// The SSAH model: backbones (feature, multi-scale text, CNN-F, and the run-time `AnyBackbone`),
/// `ModalityNet` (LabNet and every modality network), discriminators, the objectives, `BasicSsah`
/// (the networks) and `SsahTrainer` (the alternating schedule that trains them).

#include "ssah/model/any_backbone.hpp"
#include "ssah/model/any_model.hpp"
#include "ssah/model/backbone.hpp"
#include "ssah/model/cnnf.hpp"
#include "ssah/model/feature_net.hpp"
#include "ssah/model/modality_net.hpp"
#include "ssah/model/objective.hpp"
#include "ssah/model/ssah.hpp"
#include "ssah/model/text_net.hpp"
#include "ssah/model/trainer.hpp"
#include "ssah/nn.hpp"
