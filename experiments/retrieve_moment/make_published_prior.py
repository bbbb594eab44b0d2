"""Writes cvkit/retrieve_moment/priors/charades-sta-published.json: a parametric prior from published summary
statistics of the Charades-STA training split (no annotation file is available offline; nothing is fitted on any
video or on the shared clip). Users with the TALL release rebuild a fitted one with
`cvkit train retrieve-moment --prior-from charades_sta_train.txt --durations Charades_v1_train.csv -o prior.json`."""
from cvkit.retrieve_moment.prior import PRIOR_DIR, parametric_prior

SOURCE = ("parametric approximation of the Charades-STA training split from published statistics: moments average "
          "8.2 s in ~30 s videos (Gao et al. ICCV 2017) -> length 0.28 +- 0.12 of the video; moment starts and ends "
          "concentrate at the video boundaries (Otani et al. BMVC 2020, Fig. 2; Yuan et al. 2021) -> 30% start at "
          "0, 15% end at the end (our reading of those plots, not a fit)")
parametric_prior(0.28, 0.12, 0.30, 0.15, name="charades-sta-published", source=SOURCE).save(
    PRIOR_DIR / "charades-sta-published.json")
print("written")
