import shutil

import pytest

from knowledge.content import DATA_DIR, ContentError
from knowledge.library import load_knowledge


def test_everything_loads_together():
    knowledge = load_knowledge()
    assert knowledge.scales.get("PHQ-9").items
    assert knowledge.tips.topics()
    assert knowledge.stations.counties()
    assert "welcome" in knowledge.texts.keys()


def test_a_bad_file_anywhere_stops_the_load(tmp_path):
    shutil.copytree(DATA_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "texts" / "broken.yaml").write_text("oops:\n  en: [unclosed\n", encoding="utf-8")
    with pytest.raises(ContentError, match=r"broken\.yaml:\d+: not valid YAML"):
        load_knowledge(tmp_path)
