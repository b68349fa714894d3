"""``finsentry demo``: the whole pipeline on embedded services with a generated stream of headlines."""
