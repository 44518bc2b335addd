// Imports images from local files: an OCI image layout directory
// (`oci:DIR[:TAG]`), a tar of one (`oci-archive:FILE[:TAG]`) or `docker save`
// output (`docker-archive:FILE[:REF]`). Every blob is verified against its
// digest on its way into the store, and names found inside layouts and
// archives are never used as host paths: only validated digests are.
#pragma once

#include "base/result.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/store.h"

namespace vk::image {

// Copies the image's manifest, config and layers into `store` and records it
// under source.Display(). `platform` picks the manifest when the source holds
// a multi-platform index.
Result<ImageRecord> ImportLocalImage(Store& store, const ImageSource& source,
                                     const Platform& platform);

}  // namespace vk::image
