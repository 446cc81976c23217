COMMENT
LfpkAddress: the memory address of a NEURON variable, for reading many variables at once from
Python (lfpk.network.currents.SegmentReader).

    a = h.LfpkAddress()
    a.address(seg._ref_i_membrane_)   -> address (bytes, as a double: exact below 2^53)

NEURON keeps each membrane quantity of all nodes in one contiguous array (structure of arrays,
NEURON >= 9), so the transmembrane currents of every segment can be read as a numpy array that
views that storage, with one vectorised gather per time step instead of one data-handle
dereference per segment. The storage only moves when the model changes (sections, mechanisms
or point processes created or deleted); the reader checks its view against NEURON's own
data handles when it is bound and at every block it reads.
ENDCOMMENT

NEURON {
    ARTIFICIAL_CELL LfpkAddress
}

FUNCTION address() {
VERBATIM
    /* the pointer argument of the call from hoc/Python */
    _laddress = (double)(size_t)hoc_pgetarg(1);
ENDVERBATIM
}
