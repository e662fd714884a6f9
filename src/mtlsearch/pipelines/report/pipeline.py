from kedro.pipeline import Pipeline, node

from .nodes import (
    plot_auxiliary_effects,
    plot_search_comparison,
    plot_search_progress,
    plot_surrogate_fit,
    plot_transfer_heatmap,
    read_ledger_scores,
    read_search_curves,
    write_search_summary,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            node(
                plot_search_progress,
                inputs=["search_history", "best_combination", "params:search"],
                outputs="search_progress_plot",
                name="plot_search_progress",
            ),
            node(
                plot_surrogate_fit,
                inputs=["search_history", "surrogate_predictions", "best_combination"],
                outputs="surrogate_fit_plot",
                name="plot_surrogate_fit",
            ),
            node(
                plot_auxiliary_effects,
                inputs=["search_history", "best_combination"],
                outputs="auxiliary_effect_plot",
                name="plot_auxiliary_effects",
            ),
            node(read_ledger_scores, inputs="best_combination", outputs="ledger_scores", name="read_ledger_scores"),
            node(
                plot_transfer_heatmap,
                inputs=["ledger_scores", "best_combination"],
                outputs="transfer_heatmap",
                name="plot_transfer_heatmap",
            ),
            node(read_search_curves, inputs="best_combination", outputs="search_curves", name="read_search_curves"),
            node(
                plot_search_comparison,
                inputs=["search_curves", "best_combination", "params:search"],
                outputs="search_comparison_plot",
                name="plot_search_comparison",
            ),
            node(
                write_search_summary,
                inputs=["search_history", "best_combination", "params:search"],
                outputs="search_summary",
                name="write_search_summary",
            ),
        ]
    )
