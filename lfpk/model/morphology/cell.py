"""A built NEURON cell: its sections in segment-table order."""

from __future__ import annotations


class CellSections(dict):
    """Section name -> ``nrn.Section`` of one built cell, in segment-table order.

    Attributes
    ----------
    segments : list
        NEURON segments in segment-table order (sections in order, each from its 0 end).
    soma : nrn.Segment
        The segment at the soma centre (spike detection, somatic potential).
    """

    def __init__(self, sections, soma_index):
        super().__init__(sections)
        self.segments = [seg for sec in self.values() for seg in sec]
        self.soma = self.segments[int(soma_index)]

    def is_valid(self) -> bool:
        """False once any section was deleted (e.g. by ``LFPy.Cell(delete_sections=True)``)."""
        try:
            for sec in self.values():
                sec.name()  # raises ReferenceError for a deleted section
        except ReferenceError:
            return False
        return True
